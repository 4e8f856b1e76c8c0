"""One module per DVC stage: ``main()`` reads the stage's paths from the command line (``dvc.yaml``
declares them, once) and calls ``run(...)``, which takes them as keyword arguments.

Importing this package puts this checkout's ``src/`` first on the import path: a queued experiment
runs in a copy under ``.dvc/tmp/exps/``, and must run that copy's library, not the one an editable
install (``pip install -e .``) points at in the workspace.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
