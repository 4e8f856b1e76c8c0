"""Write an HTML template for `dvc plots show --html-template` that needs no internet.

DVC's default page loads Vega, Vega-Lite and Vega-Embed from a CDN. This template inlines all three
(bundled by the ``vl-convert-python`` package, a dev dependency) and leaves out DVC's ``{scripts}``
placeholder, so the page renders offline::

    python tools/offline_plots_template.py build/plots-template.html
    dvc plots show --html-template build/plots-template.html
"""

from __future__ import annotations

import sys
from pathlib import Path

# DVC's chart specs use the Vega-Lite v5 schema.
VEGA_LITE_VERSION = "5.21"
DVC_PLACEHOLDERS = ("{plot_divs}", "{scripts}", "{refresh_tag}")

PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
{refresh_tag}
<title>Jena temperature forecast: DVC plots</title>
<script>
VEGA_BUNDLE
</script>
<style>
body { font-family: sans-serif; margin: 16px; }
table { border-spacing: 15px; }
</style>
</head>
<body>
<h1>Jena temperature forecast: DVC plots</h1>
{plot_divs}
</body>
</html>
"""


def vega_bundle() -> str:
    """Vega-Embed, Vega-Lite and Vega as one classic script that sets ``window.vegaEmbed``."""
    try:
        import vl_convert
    except ImportError as error:
        raise SystemExit(
            "vl-convert-python is not installed: pip install -r requirements.lock"
        ) from error
    bundle: str = vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)
    if "</script" in bundle.lower() or any(text in bundle for text in DVC_PLACEHOLDERS):
        raise SystemExit(
            "the Vega bundle cannot be inlined: it contains </script> or a placeholder"
        )
    return bundle


def offline_template() -> str:
    """The whole page template, Vega inlined."""
    return PAGE.replace("VEGA_BUNDLE", vega_bundle())


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python tools/offline_plots_template.py OUTPUT.html")
    output = Path(argv[0])
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(offline_template(), encoding="utf-8")
    tmp.replace(output)
    print(f"{output}: offline plots template ({output.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
