"""Plain-text converters for documentation formats (used by corpus_docs.py).

HTML (html.parser), roff man pages, GNU info files, Perl POD and gzip-or-plain file reading.
Standard library only. Each converter keeps prose and code blocks and drops page chrome.
"""

import gzip
import html
import html.parser
import re

# Tags whose whole content is page chrome (navigation, scripts) rather than text.
SKIP_TAGS = {"script", "style", "nav", "header", "footer", "noscript", "svg", "button",
             "form", "select", "head", "title", "template", "iframe"}
# Classes and ids (Sphinx, mdBook, DocBook, rustdoc, scribble, texinfo) of chrome blocks.
SKIP_CLASSES = {"sphinxsidebar", "related", "footer", "navigation", "headerlink", "navheader",
                "navfooter", "toc-backref", "sidebar", "menu-bar", "nav-chapters",
                "nav-wrapper", "mobile-nav-chapters", "tocset", "tocview", "tocsub",
                "navsettop", "navsetbottom", "nav", "bd-sidebar", "bd-header",
                "bd-footer", "bd-sidebar-primary", "bd-sidebar-secondary", "prev-next-area",
                "bd-toc", "toctree-wrapper", "breadcrumbs", "rst-versions", "wy-nav-side",
                "wy-breadcrumbs", "rst-footer-buttons", "copyright", "search",
                "nav-panel", "sectiontoc", "toc", "contents", "tocnav", "searchbox",
                "linenos", "sourcelink", "headerlink", "theme-popup", "sidebar-scrollbox",
                "t-navbar", "printfooter", "catlinks", "editsection"}
SKIP_IDS = {"sidebar", "searchbox", "menu-bar", "navbar", "toc", "footer", "header",
            "sidebar-toggle-anchor", "search-wrapper", "nav", "navigation"}
BLOCK_TAGS = {"p", "div", "section", "article", "main", "br", "hr", "li", "dt", "dd", "tr",
              "table", "ul", "ol", "dl", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
              "pre", "figure", "figcaption", "caption", "td", "th", "body"}
# Tags whose end tag HTML lets authors omit: never the start of a skipped block.
OPTIONAL_END_TAGS = {"li", "p", "dt", "dd", "tr", "td", "th", "option", "thead", "tbody"}
VOID_TAGS = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed",
             "source", "track", "wbr", "param"}


class TextExtractor(html.parser.HTMLParser):
    """Collects the visible text of an HTML page, one block per line, <pre> kept verbatim."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skip_tag = None  # tag name of the chrome element being skipped
        self.skip_depth = 0   # nesting of skip_tag inside itself
        self.pre = 0

    def _is_chrome(self, tag, attrs):
        if tag in SKIP_TAGS:
            return True
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        role = values.get("role")
        return bool(classes & SKIP_CLASSES) or values.get("id") in SKIP_IDS or \
            role in ("navigation", "search", "banner", "contentinfo")

    def handle_starttag(self, tag, attrs):
        if self.skip_tag is not None:
            if tag == self.skip_tag and tag not in VOID_TAGS:
                self.skip_depth += 1
            return
        if tag not in VOID_TAGS and tag not in OPTIONAL_END_TAGS and self._is_chrome(tag, attrs):
            self.skip_tag, self.skip_depth = tag, 1
            return
        if tag == "pre":
            self.pre += 1
        if tag in BLOCK_TAGS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("* ")

    def handle_endtag(self, tag):
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        if tag == "pre" and self.pre > 0:
            self.pre -= 1
        if tag in BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_data(self, data):
        if self.skip_tag is not None:
            return
        if self.pre:
            self.parts.append("\x00" + data.replace("\n", "\x01") + "\x00")
        else:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self):
        """Joins the parts: blank lines between blocks, verbatim <pre> lines restored."""
        joined = "".join(self.parts)
        lines = []
        for line in joined.split("\n"):
            if "\x00" not in line:
                line = line.strip()
            line = line.replace("\x00", "").replace("\x01", "\n")
            lines.append(line.rstrip() if "\n" not in line else line)
        text = "\n".join(lines)
        text = re.sub(r"^\* *\n+(?=\S)", "* ", text, flags=re.MULTILINE)  # <li><p>: one line
        return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# The first of these marks where a page's own content starts (Sphinx, pydata, mdBook, Qt).
CONTENT_STARTS = ['role="main"', "<main", 'itemprop="articleBody"', "<article", 'id="content"']


def html_to_text(markup):
    # Parsing only from the content's start skips the sidebars before it (and most of the
    # time spent on big themed pages); the tag left open there is harmless.
    for marker in CONTENT_STARTS:
        start = markup.find(marker)
        if start >= 0:
            markup = markup[markup.rfind("<", 0, start):]
            break
    parser = TextExtractor()
    parser.feed(markup)
    parser.close()
    text = parser.text().replace("\u00b6", "")  # Sphinx's pilcrow permalinks
    return re.sub(r"[ \t]+\n", "\n", text)


def read_text(path):
    """Reads a UTF-8 file, gunzipping it when the name ends in .gz."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


# MARK: - GNU info

def info_to_text(raw):
    """Strips an info file to its nodes' text: drops the tag table and node header lines."""
    raw = raw.split("\x1f\nTag Table:")[0]
    nodes = []
    for node in raw.split("\x1f")[1:]:
        lines = node.lstrip("\n").split("\n")
        if lines and lines[0].startswith("File:"):
            lines = lines[1:]  # "File: x.info,  Node: y,  Next: z, ..." navigation line
        body = "\n".join(lines)
        body = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", body)
        body = re.sub(r"\x08.", "", body)
        if body.strip() and not body.lstrip().startswith("Indirect:"):
            nodes.append(body.strip("\n"))
    return "\n\n".join(nodes)


# MARK: - Perl POD

def pod_to_text(pod):
    """Turns POD into readable text: headings and items kept, formatting codes unwrapped."""
    out = []
    in_pod = True
    for para in re.split(r"\n\s*\n", pod):
        stripped = para.strip("\n")
        if stripped.startswith("=cut"):
            in_pod = False
            continue
        if stripped.startswith("="):
            in_pod = True
            command, _, rest = stripped.partition(" ")
            if command.startswith("=head"):
                out.append(rest.strip())
            elif command == "=item":
                out.append("* " + rest.strip())
            elif command in ("=over", "=back", "=pod", "=encoding", "=for", "=begin", "=end"):
                continue
            else:
                out.append(rest.strip())
            continue
        if in_pod:
            out.append(stripped)
    text = "\n\n".join(part for part in out if part.strip())
    # Formatting codes: B<bold>, C<< code >>, L<text|target>, E<gt>, X<index>, Z<>.
    text = re.sub(r"[XZ]<[^<>]*>", "", text)
    text = re.sub(r"E<(lt|gt|verbar|sol)>",
                  lambda m: {"lt": "<", "gt": ">", "verbar": "|", "sol": "/"}[m.group(1)], text)
    for _ in range(3):  # nested codes unwrap from the inside out
        text = re.sub(r"[BICFSL]<<+\s+(.*?)\s+>>+", r"\1", text, flags=re.DOTALL)
        text = re.sub(r"L<([^<>|]*)\|[^<>]*>", r"\1", text)
        text = re.sub(r"[BICFSL]<([^<>]*)>", r"\1", text)
    return text


# MARK: - roff man pages

ROFF_ESCAPES = [
    (r"\\f(\[[^\]]*\]|\(..|.)", ""),  # font changes
    (r"\\s[-+]?\d", ""),               # size changes
    (r"\\\(em|\\\[em\]", "\u2014"), (r"\\\(en|\\\[en\]", "\u2013"),
    (r"\\\(bu|\\\[bu\]", "*"), (r"\\\(co|\\\[co\]", "\u00a9"),
    (r"\\\(lq|\\\(rq|\\\(dq", '"'), (r"\\\(oq|\\\(cq|\\\(aq", "'"),
    (r"\\\(rs|\\e|\\\\", "\\\\"), (r"\\\(ti", "~"), (r"\\\(ha", "^"),
    (r"\\\(mu", "\u00d7"), (r"\\\(>=", ">="), (r"\\\(<=", "<="), (r"\\\(->", "->"),
    (r"\\\(..|\\\[[^\]]*\]", ""),     # other named characters
    (r"\\\*\(..|\\\*\[[^\]]*\]|\\\*.", ""),  # strings
    (r"\\-", "-"), (r"\\ ", " "), (r"\\~", " "), (r"\\&|\\:|\\/|\\,|\\\||\\\^|\\%|\\c", ""),
    (r"\\\"", ""), (r"\\'", "'"), (r"\\`", "`"), (r"\\\.", "."),
]


def roff_to_text(source):
    """Strips man(7) roff: section heads kept, font macros unwrapped, filled lines joined."""
    source = re.sub(r"\\\n", "", source)  # a trailing backslash continues the line
    out = []
    para = []     # words of the filled paragraph being collected
    nofill = False

    def flush(prefix=""):
        if para:
            out.append(" ".join(para))
            para.clear()
        out.append(prefix)

    for line in source.split("\n"):
        if line.startswith(('.\\"', "'\\\"", '.\\\\"')) or line.strip() in (".", "'"):
            continue
        match = re.match(r"[.'](\S+)\s*(.*)$", line) if line[:1] in ".'" else None
        if match is None:
            if nofill:
                out.append(line)
            elif line.strip():
                para.append(line.strip())
            else:
                flush()
            continue
        macro, args = match.group(1), match.group(2)
        words = [a or b for a, b in re.findall(r'"([^"]*)"|(\S+)', args)]
        if macro in ("SH", "SS"):
            flush("\n" + " ".join(words))
        elif macro in ("B", "I", "SM", "SB"):
            (out.append if nofill else para.append)(" ".join(words))
        elif macro in ("BR", "RB", "IR", "RI", "BI", "IB"):
            # Alternating fonts: the words are joined without spaces.
            (out.append if nofill else para.append)("".join(words))
        elif macro in ("nf", "EX"):
            flush()
            nofill = True
        elif macro in ("fi", "EE"):
            nofill = False
            flush()
        elif macro in ("PP", "LP", "P", "sp", "TP", "IP", "HP", "RS", "RE", "br"):
            flush("* " + words[0] if macro == "IP" and words else "")
        elif macro in ("UR", "MT"):
            para.append(args)
        # Everything else (TH, in, ad, TS, de, ...) is layout: dropped.
    flush()
    text = "\n".join(out)
    for pattern, replacement in ROFF_ESCAPES:
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"
