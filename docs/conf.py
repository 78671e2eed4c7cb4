"""Sphinx configuration of the skautosearch documentation.

Build (warnings are errors, as in CI)::

    pip install -e ".[docs]"
    sphinx-build -W -b html docs docs/_build/html

The gallery shows ``docs/gallery/`` and, once it has a ``GALLERY_HEADER.rst``,
``examples/``. The build runs the ``plot_*.py`` scripts and shows their figures;
other scripts (long Keras searches) are shown, not run, and so are ``plot_*.py``
scripts that use Keras when TensorFlow is not installed.
"""

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from sphinx.util import logging as sphinx_logging

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import skautosearch  # noqa: E402

project = "skautosearch"
author = "skautosearch developers"
copyright = "2026, skautosearch developers"
release = skautosearch.__version__
version = re.sub(r"\.dev\d*$", "", release)

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "notes", "gallery/*.md",
                    "**/GALLERY_HEADER.rst"]
templates_path = ["_templates"]
default_role = "literal"

# -- API reference -------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False  # autosummary lists them; avoids stub warnings
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# TensorFlow is the keras extra, not the docs one: without it, autodoc imports
# skautosearch.keras and skautosearch.compression against stand-ins.
HAS_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None
if not HAS_TENSORFLOW:
    autodoc_mock_imports = ["tensorflow", "keras", "scikeras", "tf_keras"]

myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skautosearch {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}

# -- Gallery -------------------------------------------------------------------


def _gallery_dirs():
    """docs/gallery always; examples/ too once it is a gallery (has a header)."""
    dirs = [("gallery", "auto_examples")]
    if (ROOT / "examples" / "GALLERY_HEADER.rst").exists():
        dirs.append(("../examples", "auto_examples_repo"))
    return [d for d, _ in dirs], [g for _, g in dirs]


def _needs_keras(path):
    text = Path(path).read_text(encoding="utf-8")
    return re.search(r"^\s*(import|from)\s+(tensorflow|keras|scikeras|"
                     r"skautosearch\.(keras|compression))\b", text, re.M) is not None


def _runnable_pattern():
    """Run the ``plot_*.py`` examples (the others are shown, not run), except the
    ones that use Keras when TensorFlow is missing."""
    if HAS_TENSORFLOW:
        return r"/plot_[^/]*\.py$"
    skip = [Path(p).name for d in _gallery_dirs()[0]
            for p in (DOCS / d).glob("plot_*.py") if _needs_keras(p)]
    if not skip:
        return r"/plot_[^/]*\.py$"
    return r"/(?!(" + "|".join(re.escape(s) for s in skip) + r")$)plot_[^/]*\.py$"


_examples_dirs, _gallery_out = _gallery_dirs()
sphinx_gallery_conf = {
    "examples_dirs": _examples_dirs,
    "gallery_dirs": _gallery_out,
    "filename_pattern": _runnable_pattern(),
    "ignore_pattern": r"__init__\.py|/_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "default_thumb_file": None,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "backreferences_dir": "generated/backreferences",
    "write_computation_times": False,
    "doc_module": ("skautosearch",),
}

# -- The command line's --help, generated so that it cannot drift ---------------


def _write_cli_help():
    out = DOCS / "_generated"
    out.mkdir(exist_ok=True)
    for name, args in (("cli_help.txt", ["--help"]),
                       ("cli_compare_help.txt", ["compare", "--help"])):
        text = subprocess.run(
            [sys.executable, "-m", "skautosearch", *args], capture_output=True,
            text=True, check=True, env={**os.environ, "COLUMNS": "88"}, cwd=ROOT,
        ).stdout
        target = out / name
        if not target.exists() or target.read_text() != text:
            target.write_text(text)


_write_cli_help()


def _write_scripts_page():
    """examples/*.py (long Keras runs, not gallery scripts): their source, shown."""
    scripts = sorted((ROOT / "examples").glob("*.py"))
    parts = []
    for script in scripts:
        doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
        title = f"``examples/{script.name}``"
        parts += [title, "-" * len(title), "", doc.splitlines()[0] if doc else "",
                  "", f".. literalinclude:: /../examples/{script.name}",
                  "   :language: python", ""]
    text = "\n".join(parts) if parts else "No scripts yet.\n"
    target = DOCS / "_generated" / "scripts.inc"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)

# -- The API page lists every public name ---------------------------------------



# skopt's classes, re-exported: documented by scikit-optimize, named in the text.
_NOT_OURS = {"Real", "Integer", "Categorical", "__version__"}
_PUBLIC_MODULES = {
    "skautosearch": "skautosearch/__init__.py",
    "skautosearch.results": "skautosearch/results.py",
    "skautosearch.plot": "skautosearch/plot.py",
    "skautosearch.keras": "skautosearch/keras/__init__.py",
    "skautosearch.compression": "skautosearch/compression/__init__.py",
}


def _public_names(path):
    """``__all__`` of a module, read without importing it (no TensorFlow needed)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "__all__" for t in node.targets
        ):
            return [n for n in ast.literal_eval(node.value) if n not in _NOT_OURS]
    return []


def _check_api_page(app):
    """Warn (an error under -W) about a public name that api.rst does not list."""
    api = (DOCS / "api.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s{3}([\w.]+)\s*$", api, re.M))
    current = re.findall(r"currentmodule:: ([\w.]+)", api)
    for module, path in _PUBLIC_MODULES.items():
        if not (ROOT / path).exists():
            continue
        for name in _public_names(ROOT / path):
            if name not in listed and f"{module}.{name}" not in listed:
                sphinx_logging.getLogger(__name__).warning(
                    f"docs/api.rst does not list {module}.{name} "
                    f"(in {module}.__all__); add it under "
                    f".. currentmodule:: {module}"
                    + ("" if module in current else " (a new section)")
                )


_write_scripts_page()


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn generates set_{fit,score,...}_request on every estimator; their
    # docstrings point into scikit-learn's own documentation.
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    app.connect("builder-inited", _check_api_page)
    app.connect("autodoc-skip-member", _skip_member)
