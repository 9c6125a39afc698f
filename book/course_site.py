"""Sphinx tweaks for the course's reading site (a local extension named in _config.yml).

Jupyter Book 1.0.4 always loads sphinx-thebe, whose configuration script then lands twice on every
page (`const THEBE_JS_URL` declared twice: a SyntaxError in every page) and names a CDN. The site
runs no code, so thebe's scripts are left out of the pages.
"""


def _without_thebe(app, pagename, templatename, context, doctree):
    def thebe(script):
        return "thebe" in str(script.filename or "") or "THEBE" in script.attributes.get("body", "")

    context["script_files"] = [s for s in context.get("script_files", []) if not thebe(s)]


def setup(app):
    app.connect("html-page-context", _without_thebe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
