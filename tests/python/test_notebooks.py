"""Every notebook under notebooks/ runs from top to bottom on Debian's python3 kernel without an error (their
last cells assert what the text claims)."""

import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient

SOURCE = os.environ.get("DEPLOYSIM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
NOTEBOOKS = sorted(glob.glob(os.path.join(SOURCE, "notebooks", "*.ipynb")))


def test_there_are_notebooks():
    names = [os.path.basename(p) for p in NOTEBOOKS]
    assert names == ["01-quickstart.ipynb", "02-capacity-planning.ipynb", "03-strategy-tradeoffs.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs(path):
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    notebook = nbformat.read(path, as_version=4)
    # Stored without outputs, so that the repository holds only what a reader needs.
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{os.path.basename(path)} is stored with outputs"
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(path)}})
    client.execute()  # raises CellExecutionError with the failing cell on any error
