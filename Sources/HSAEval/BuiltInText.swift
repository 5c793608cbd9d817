// Built-in fallback texts and word lists, written for this project (no third-party text).
// Used when data/eval and data/heldout are absent (tests run on these only).

/// Small texts and word lists that need no files.
enum BuiltInText {
    static let nouns: [String] = [
        "actor", "airport", "anchor", "apple", "arrow", "autumn", "badge", "bakery", "balloon",
        "banana", "barn", "basket", "beach", "bicycle", "blanket", "bottle", "bridge", "bucket",
        "butter", "cabin", "camera", "candle", "canyon", "carpet", "castle", "cello", "chair",
        "cherry", "circle", "cloud", "coast", "comet", "compass", "cookie", "copper", "cottage",
        "crayon", "crystal", "desert", "dragon", "drum", "eagle", "engine", "falcon", "feather",
        "fence", "forest", "fountain", "garden", "garlic", "giant", "glacier", "guitar", "hammer",
        "harbor", "helmet", "honey", "island", "jacket", "jungle", "kettle", "kitten", "ladder",
        "lantern", "lemon", "library", "lighthouse", "lizard", "magnet", "maple", "meadow",
        "mirror", "monkey", "mountain", "needle", "ocean", "orchard", "otter", "paddle", "panda",
        "parrot", "pencil", "pepper", "piano", "pillow", "planet", "pocket", "pumpkin", "puzzle",
        "quilt", "rabbit", "radio", "rainbow", "river", "rocket", "saddle", "salmon", "sandal",
        "scarf", "shadow", "shell", "shovel", "signal", "silver", "spider", "spoon", "squirrel",
        "statue", "storm", "sunset", "tablet", "teapot", "thunder", "tiger", "tomato", "tower",
        "tractor", "trumpet", "tulip", "tunnel", "turtle", "umbrella", "valley", "violin",
        "wagon", "walrus", "whistle", "window", "winter", "wizard", "yacht", "zebra",
    ]
    static let adjectives: [String] = [
        "ancient", "angry", "bitter", "bold", "brave", "breezy", "bright", "broad", "calm",
        "careful", "cheerful", "clever", "cold", "cozy", "crisp", "curious", "daring", "dusty",
        "eager", "early", "elegant", "empty", "fancy", "fierce", "fluffy", "fragile", "gentle",
        "giant", "glossy", "golden", "graceful", "happy", "hollow", "humble", "icy", "jolly",
        "kind", "lazy", "lively", "lonely", "loud", "lucky", "mellow", "mighty", "misty",
        "modern", "narrow", "nervous", "noble", "odd", "polite", "proud", "quick", "quiet",
        "rapid", "rough", "rusty", "shiny", "silent", "sleepy", "smooth", "sour", "spicy",
        "steady", "sticky", "sunny", "swift", "tidy", "tiny", "vivid", "warm", "wild", "witty",
        "young", "zesty",
    ]
    static let verbs: [String] = [
        "admire", "answer", "arrive", "bake", "balance", "borrow", "build", "carry", "chase",
        "climb", "collect", "count", "dance", "deliver", "discover", "draw", "dream", "explore",
        "fetch", "fix", "fly", "follow", "gather", "greet", "grow", "hide", "hunt", "imagine",
        "invent", "juggle", "jump", "knit", "laugh", "listen", "measure", "mend", "paint",
        "plant", "play", "polish", "race", "read", "repair", "rescue", "sail", "search", "sing",
        "sketch", "swim", "travel", "wander", "wash", "whistle", "write",
    ]
    static let essay = """
        The best way to get good ideas is to work on problems you actually have. When \
        you notice something missing in your own life, it is likely that others miss it \
        too. Most startups fail not because the founders are stupid but because they \
        build something nobody wants. It is hard to see this from the inside, since \
        every founder believes the product is needed. Writing an essay is a way of \
        finding out what you think. You start with a question and follow it wherever it \
        leads, and often it leads somewhere unexpected. Good writing is mostly \
        rewriting: the first draft says roughly what you mean, later drafts say it \
        exactly. Cities tell you what they value by the way people talk to you. In some \
        places the message is that you should be richer, in others that you should be \
        smarter. Ambitious people tend to collect in a few places, and the place you \
        live quietly shapes what you try. Hard work matters, but the direction of the \
        work matters more. A small amount of effort on the right problem beats a great \
        deal of effort on the wrong one. Curiosity is the best guide to what is worth \
        doing, because it is hard to fake for long. If you are interested in something \
        for its own sake, you will keep at it when others stop. Schools teach people to \
        hack tests, which is a skill that rarely transfers to real work. In the real \
        world the test is whether the thing you made is actually good.
        """
    static let book = """
        The morning was grey and still when the carriage left the village. Anne sat by \
        the window and watched the fields pass, thinking of the letter she had not \
        answered. Her father had spoken of nothing but the expense of the journey since \
        breakfast. At the inn they were met by a servant who said that the rooms were \
        ready and the fire was lit. It was a quiet house, with a long garden that ran \
        down to the river. In the evening the company gathered in the drawing room, and \
        conversation turned to the navy. Captain Harville told a story of a storm off \
        the coast, and everyone listened without a word. Mary complained of a headache \
        and went early to bed, though nobody believed her. The next day brought rain, \
        and the walk to the cliffs had to be put off. Anne found a book in the library \
        and read until the light failed. She had always liked the quiet hours best, when\
         nothing was expected of her. A letter arrived by the afternoon post, and the \
        whole house wondered who had sent it. Lady Russell came to dinner and spoke \
        warmly of the new neighbours. The children ran about the lawn until their mother\
         called them in for tea. Much later, when the candles had burned low, the guests\
         at last began to take their leave.
        """
}
