"""Offline stand-in for `tiktoken`, which RULER's generator loads for --tokenizer_type openai.

The real encodings are downloaded on first use, which this machine cannot do. RULER only
counts tokens (`len(TOKENIZER.text_to_tokens(text))`), so any deterministic splitter works:
this one counts words and punctuation marks, roughly a subword tokenizer's units (about 4
to 5 bytes each), which is the point of the fixture: its `length` and `tokens_to_generate`
are not byte tokens.
"""

import re

_PIECES = re.compile(r"\w+|[^\w\s]")


class _WordsAndPunctuation:
    def encode(self, text):
        return _PIECES.findall(text)

    def decode(self, tokens):
        return " ".join(tokens)


def get_encoding(name):
    return _WordsAndPunctuation()
