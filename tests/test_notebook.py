import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "visualize_results.ipynb"
PLOTTING_CALLS = ("training_curves(", "confusion_figure(", "digit_grid(", "number_boxes(")


@pytest.mark.parametrize("run", ["smoke_run", "best_smoke_run"])
def test_the_notebook_runs_headless_and_every_plotting_cell_draws(run, request):
    run_dir = request.getfixturevalue(run)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first_code.source.startswith('RUN_DIR = "models"')
    first_code.source = first_code.source.replace('"models"', json.dumps(str(run_dir)), 1)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    plotting = [cell for cell in notebook.cells
                if cell.cell_type == "code" and any(call in cell.source for call in PLOTTING_CALLS)]
    assert len(plotting) >= 5
    for cell in plotting:
        assert any("image/png" in output.get("data", {}) for output in cell.outputs), cell.source[:60]
    for cell in notebook.cells:
        assert all(output.output_type != "error" for output in cell.get("outputs", []))


def test_the_committed_outputs_match_the_shipped_metrics():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    metrics = json.loads((ROOT / "models" / "metrics.json").read_text())
    shown = "".join(output.get("data", {}).get("text/markdown", "")
                    for cell in notebook.cells for output in cell.get("outputs", []))
    assert f"**{metrics['test_accuracy']:.2%}**" in shown, "re-run the notebook after training the shipped model"
