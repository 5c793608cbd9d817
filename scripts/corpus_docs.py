"""Documentation sources of the corpus: Debian -doc packages turned into plain text.

Each source is (folder, root, include patterns, exclude regex, converter). Files are visited in
sorted order; one file is one document. HELDOUT names the one long document of each large
source that goes to the held-out folder instead of the corpus. Standard library only.
"""

import glob
import multiprocessing
import os
import re
import subprocess
import sys

from corpus_text import html_to_text, info_to_text, pod_to_text, read_text, roff_to_text

# Sphinx / generic HTML pages that are indexes, search pages or highlighted source code.
HTML_NOISE = r"(^|/)(_modules|_sources|_static|_images|_downloads|_sphinx_design_static|" \
             r"genindex[^/]*|py-modindex|search|searchindex|objects|404|print|toc)(/|\.html$)"
MIN_BYTES = 400  # pages shorter than this are stubs (redirects, empty index pages)


def _html(path):
    return html_to_text(read_text(path))


def _plain(path):
    return read_text(path)


def _info(path):
    return info_to_text(read_text(path))


def _pod(path):
    return pod_to_text(read_text(path))


def _man(path):
    source = read_text(path)
    if re.match(r"\.so\s", source.lstrip()):
        return ""  # a page that only includes another page (a link)
    return roff_to_text(source)


D = "/usr/share/doc/"
# folder, root, glob patterns (relative to root), exclude regex on the relative path, converter
SOURCES = [
    ("linux-doc", D + "linux-doc-6.1/Documentation",
     ["**/*.rst.gz", "**/*.rst", "**/*.txt.gz", "**/*.txt"],
     r"^(translations|devicetree|ABI|output|sphinx|netlink)/", _plain),
    ("perl-doc", "/usr/share/perl/5.36.0/pod", ["*.pod", "*.pod.gz"],
     r"^perl(toc|uniprops|modlib)\.", _pod),  # generated tables of contents and properties
    ("manpages", "/usr/share/man", ["man[1-8]/*.gz"], None, _man),
    ("postgresql-doc", D + "postgresql-doc-15/html", ["*.html"],
     r"^(bookindex|index)\.html$", _html),
    ("debian-reference", "/usr/share/debian-reference", ["*.en.html"], r"index\.", _html),
    ("debian-handbook", D + "debian-handbook/html/en-US", ["*.html"], r"^index\.html$", _html),
    ("rust-books", D + "rust-doc/html",
     ["book/**/*.html", "reference/**/*.html", "nomicon/**/*.html", "rust-by-example/**/*.html",
      "cargo/**/*.html", "rustc/**/*.html", "edition-guide/**/*.html",
      "embedded-book/**/*.html", "rustdoc/**/*.html", "style-guide/**/*.html"],
     HTML_NOISE, _html),
    ("golang-doc", D + "golang-1.19-doc/html", ["*.html"], r"go1\.17_spec", _html),
    ("django-docs", D + "python-django-doc/html", ["**/*.html"], HTML_NOISE, _html),
    ("r-manuals", "/usr/share/R/doc/manual", ["R-*.html"], None, _html),
    ("racket-docs", D + "racket", ["**/*.html"], r"(^|/)(index|doc-index)\.html$|^search/",
     _html),
    ("erlang-docs", D + "erlang-doc", ["**/*.html"],
     r"/java/|/wx-[^/]*/|(^|/)(index|users_guide|ref_man|release_notes)\.html$|/internal_doc/",
     _html),
    ("sklearn-docs", D + "python-sklearn-doc/html", ["**/*.html"],
     HTML_NOISE + r"|^auto_examples/", _html),
    ("pandas-docs", D + "python-pandas-doc/html", ["**/*.html"], HTML_NOISE, _html),
    ("scipy-docs", D + "python-scipy-doc/html", ["**/*.html"], HTML_NOISE, _html),
    ("sympy-docs", D + "python-sympy-doc/html", ["**/*.html"], HTML_NOISE, _html),
    ("astropy-docs", D + "python-astropy-doc/html", ["**/*.html"], HTML_NOISE, _html),
    ("statsmodels-docs", D + "python-statsmodels-doc/html", ["**/*.html"],
     HTML_NOISE + r"|^examples/", _html),
    ("twisted-docs", D + "twisted-doc/html", ["**/*.html"], HTML_NOISE + r"|^api/", _html),
    ("git-doc", D + "git-doc", ["*.txt", "technical/*.txt", "howto/*.txt"], r"^(RelNotes)",
     _plain),
    ("bash-manual", D + "bash", ["bashref.html"], None, _html),
    ("gnu-info", "/usr/share/info",
     ["as.info.gz", "binutils.info.gz", "ld.info.gz", "gprof.info.gz", "gprofng.info.gz",
      "autoconf.info.gz", "standards.info.gz", "maintain.info.gz"], None, _info),
    ("sqlite-docs", D + "sqlite3", ["**/*.html"], r"^(releaselog|c3ref)/|^(toc|sitemap|"
     r"requirements|keyword_index|fileio|index|changes|chronology|news)\.html$", _html),
    ("gimp-help", "/usr/share/gimp/2.0/help/en", ["*.html"], r"^index\.html$", _html),
    ("lilypond-docs", D + "lilypond/html/Documentation", ["**/*.html"],
     r"\.[a-z][a-z]\.html$|big-page|^internals/|(^|/)index\.html$", _html),
    ("gnucash-docs", D + "gnucash-docs", ["gnucash-guide-en/*.html", "gnucash-help-en/*.html"],
     r"/index\.html$", _html),
    ("qt-docs", "/usr/share/qt5/doc", ["**/*.html"],
     r"-(members|obsolete|compat)\.html$|(^|/)(index|classes|modules|qmltypes|annotated|"
     r"examples|obsoleteclasses)\.html$", _html),
    ("nodejs-docs", D + "nodejs/api", ["*.md.gz"], r"^(all|index)\.", _plain),
    ("apache-manual", D + "apache2-doc/manual/en", ["**/*.html"],
     r"(^|/)(index|sitemap|quickreference|directives)\.html$", _html),
    ("llvm-docs", D + "llvm-14-doc/html", ["**/*.html"], HTML_NOISE + r"|^AMDGPU/", _html),
    ("clang-docs", D + "clang-14/html", ["**/*.html"], HTML_NOISE, _html),
    ("cmake-docs", D + "cmake-data/html", ["**/*.html"], HTML_NOISE, _html),
    ("octave-manual", D + "octave", ["octave.html/*.html", "liboctave.html/*.html"],
     r"(^|/)index\.html$", _html),
    ("sqlalchemy-docs", D + "python-sqlalchemy-doc/html", ["**/*.html"], HTML_NOISE, _html),
    ("developers-reference", "/usr/share/developers-reference", ["*.html"], r"^index\.",
     _html),
    ("debian-policy", D + "debian-policy", ["*.html"], HTML_NOISE + r"|^index\.", _html),
    ("maint-guide", D + "maint-guide/html", ["*.en.html"], r"^index\.", _html),
    ("gnuplot-docs", D + "gnuplot/htmldocs", ["*.html"], r"^index\.", _html),
    ("maxima-manual", D + "maxima-doc/html", ["*.html"],
     r"^(index|maxima_toc|maxima_singlepage)\.", _html),  # singlepage: every page again
    ("exim-spec", D + "exim4-doc-html", ["**/*.html"], r"(^|/)index\.html$", _html),
    ("bind9-arm", D + "bind9-doc/arm", ["*.html"], HTML_NOISE + r"|^index\.", _html),
    ("flask-docs", D + "python-flask-doc/html", ["**/*.html"], HTML_NOISE, _html),
    ("pytest-docs", D + "python-pytest-doc/html", ["**/*.html"], HTML_NOISE, _html),
    ("celery-docs", D + "python-celery-doc/html", ["**/*.html"], HTML_NOISE, _html),
    ("biopython-tutorial", D + "python-biopython-doc/Doc", ["Tutorial.html"], None, _html),
    ("skimage-docs", D + "python-skimage-doc/html", ["**/*.html"],
     HTML_NOISE + r"|^auto_examples/", _html),
    ("libreoffice-help", "/usr/share/libreoffice/help/en-US/text", ["**/*.html"], None, _html),
    ("sagemath-docs", D + "sagemath/html/en", ["**/*.html"], HTML_NOISE + r"|^website/",
     _html),
    ("openjdk-api", D + "openjdk-17-jre-headless/api", ["**/*.html"],
     r"(^|/)(class-use|index-files|legal)/|(^|/)(package-tree|package-use|tree|overview-tree|"
     r"allclasses-index|allpackages-index|constant-values|deprecated-list|serialized-form|"
     r"index|help-doc|search|overview-summary|new-list|preview-list|system-properties|"
     r"external-specs|module-graph)\.html$", _html),
    ("cppreference", "/usr/share/cppreference/doc/html/en", ["**/*.html"],
     r"(^|/)(Main_Page|index|symbol_index|links)\.html$|^(c|cpp)/symbol_index/", _html),
    ("openssl-manpages", "/usr/share/man", ["man3/*.3ssl.gz", "man7/*.7ssl.gz"], None, _man),
]

# Sources whose root holds other packages' files too: only these packages' files are read.
PACKAGE_FILTER = {
    "manpages": ["manpages", "manpages-dev"],
    "openssl-manpages": ["libssl-doc"],
}

# One long prose document per large source, kept out of training for evaluation.
HELDOUT = {
    "linux-doc": "virt-kvm-api",
    "perl-doc": "perlfunc",
    "postgresql-doc": "app-psql",
    "r-manuals": "R-intro",
    "gnu-info": "standards",
    "erlang-docs": "erts-13.1.5-doc-html-erlang",
    "racket-docs": "redex-reference",
    "openjdk-api": "java.desktop-java-awt-Component",
    "sagemath-docs": "reference-combinat-sage-combinat-finite_state_machine",
    "qt-docs": "qtcore-qstring",
}


def package_files(package):
    """The files a Debian package installed (dpkg -L), or an empty set if it is absent."""
    result = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
    return set(result.stdout.split()) if result.returncode == 0 else set()


def source_files(root, patterns, exclude):
    """Sorted (path, relative path) pairs under root matching patterns, minus excluded ones."""
    found = set()
    for pattern in patterns:
        found.update(glob.glob(os.path.join(root, pattern), recursive=True))
    pairs = []
    for path in sorted(found):
        rel = os.path.relpath(path, root)
        if os.path.isfile(path) and not os.path.islink(path) and \
                (exclude is None or re.search(exclude, rel) is None):
            pairs.append((path, rel))
    return pairs


def document_name(rel):
    """A file name for a document: the relative path without its extensions, / as -."""
    rel = re.sub(r"\.gz$", "", rel)
    rel = re.sub(r"\.(html|rst|txt|pod|info)$", "", rel)
    return rel.replace("/", "-")


def extract_docs(writer, heldout_dir, only=None):
    """Writes every documentation source (or those named in only) through writer."""
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        extract_with(pool, writer, heldout_dir, only)


def extract_with(pool, writer, heldout_dir, only):
    for source, root, patterns, exclude, convert in SOURCES:
        if only and source not in only:
            continue
        files = source_files(root, patterns, exclude)
        if source in PACKAGE_FILTER:
            installed = set().union(*(package_files(p) for p in PACKAGE_FILTER[source]))
            files = [(path, rel) for path, rel in files if path in installed]
        if not files:
            print("warning: no files for %s under %s; skipping it" % (source, root),
                  file=sys.stderr, flush=True)
            continue
        print("extracting %s (%d files) ..." % (source, len(files)), file=sys.stderr,
              flush=True)
        # Conversion runs in worker processes; writing (and de-duplication) stays here, in
        # sorted order, so the result does not depend on the number of workers.
        texts = pool.imap(convert, [path for path, _ in files], chunksize=8)
        for (path, rel), text in zip(files, texts):
            if len(text.encode("utf-8")) < MIN_BYTES:
                continue
            name = document_name(rel)
            if HELDOUT.get(source) == name:
                writer.write(source + "-heldout", source + "-" + name, text,
                             directory=heldout_dir)
            else:
                writer.write(source, name, text)
