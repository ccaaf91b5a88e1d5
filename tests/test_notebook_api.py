"""A notebook, executed for real (nbclient, an IPython kernel of this venv's Python), sweeps a function defined
in one of its cells with a dict base config: one progress display, an HTML results table, the analyzer as HTML
and a matplotlib Figure.

The kernel is this interpreter (``sys.executable``) through a kernelspec written to a temporary
``JUPYTER_PATH``, so the test never picks up another Python's kernel. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

KERNEL = "sweeplab-test-python"

SETUP = """\
import numpy as np
from sweeplab import ExperimentSweep, SweepAnalyzer

def train(config, context):
    # defined here, in the kernel's __main__: the trials get it pickled by value
    rng = np.random.default_rng(context.seed)
    loss = (np.log10(config["lr"]) + 1.0) ** 2 + config["layers"] * 0.01 + rng.normal(0, 0.01)
    return {"loss": float(loss), "optimizer": config["optimizer"]}
"""

RUN = """\
sweep = ExperimentSweep(base_config={"lr": 0.1, "layers": 2, "optimizer": "adam"},
                        sweep_params={"lr": [0.01, 0.1, 1.0], "layers": [1, 4]}, function=train,
                        repeats=2, seed=3, parallel_jobs=2, sweep_id="nb_sweep", output_dir="sweeps",
                        db_path="experiments.db", max_retries=0)
results = sweep.run_all()
"""

SHOW = "results"

CHECK = """\
frame = results.to_dataframe()
print(len(frame), str(frame["lr"].dtype), str(frame["layers"].dtype), sorted(set(frame["status"])),
      frame["optimizer"].iloc[0])
"""

ANALYZE = """\
analyzer = SweepAnalyzer("nb_sweep", sweep_dir="sweeps")
analyzer
"""

FIGURE = """\
figure = analyzer.plot_parameter("lr", "loss")
print(type(figure).__module__, type(figure).__name__)
"""


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec running this venv's Python, visible only to this test."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "sweeplab test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return KERNEL


def _outputs(cell: nbformat.NotebookNode, kind: str) -> list[nbformat.NotebookNode]:
    return [output for output in cell.outputs if output.output_type == kind]


def test_a_notebook_sweeps_its_own_function_with_one_progress_display(tmp_path: Path, kernel: str) -> None:
    work = tmp_path / "notebook"
    work.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in (SETUP, RUN, SHOW, CHECK, ANALYZE, FIGURE)]
    client = NotebookClient(notebook, kernel_name=kernel, timeout=240, resources={"metadata": {"path": str(work)}})
    client.execute()
    _, run, show, check, analyze, figure = notebook.cells

    # the run: exactly one output, the progress display, updated in place to its final state
    assert [output.output_type for output in run.outputs] == ["display_data"], run.outputs
    display = run.outputs[0]
    assert "<progress value='12' max='12'" in display.data["text/html"]
    assert "Sweep nb_sweep completed: 12/12 completed" in display.data["text/plain"]
    assert "12 ok" in display.data["text/plain"]

    # the results as a table
    [table] = _outputs(show, "execute_result")
    html = table.data["text/html"]
    assert html.startswith("<table class='sweeplab-results'>") and "nb_sweep: 12 of 12 trials (12 completed)" in html
    assert "<th>lr</th><th>layers</th><th>loss</th>" in html

    # the typed frame; the non-numeric value the function returned is kept as text
    [printed] = _outputs(check, "stream")
    assert printed.text.split() == ["12", "float64", "int64", "['completed']", "adam"]

    # the analyzer's own HTML, and a Figure from a plot method
    [shown] = _outputs(analyze, "execute_result")
    assert "text/html" in shown.data and "nb_sweep" in shown.data["text/html"]
    assert "matplotlib.figure Figure" in "".join(o.text for o in _outputs(figure, "stream"))
    assert not any(output.output_type == "error" for cell in notebook.cells for output in cell.outputs)

    # the pickled function lives beside the sweeps, named by its content; the base config likewise
    inputs = sorted(p.name for p in (work / "sweeps" / "python_api").iterdir())
    assert [name.split("_")[0] for name in inputs] == ["base", "function"], inputs


def test_the_example_notebook_runs_as_shipped(tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/examples/sweep_notebook.ipynb, executed in a fresh folder: its sweep, table, analyzer and figure."""
    monkeypatch.delenv("MPLBACKEND")  # the notebook asks for inline figures itself
    example = Path(__file__).resolve().parents[1] / "docs" / "examples" / "sweep_notebook.ipynb"
    notebook = nbformat.read(example, as_version=4)
    client = NotebookClient(notebook, kernel_name=kernel, timeout=300, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not any(output.output_type == "error" for cell in code for output in cell.outputs)
    run = next(cell for cell in code if "run_all()" in cell.source)
    assert [output.output_type for output in run.outputs] == ["display_data"]
    assert "Sweep digits_svc completed: 18/18 completed" in run.outputs[0].data["text/plain"]
    shown = next(cell for cell in code if cell.source.strip() == "results")
    assert "digits_svc: 18 of 18 trials (18 completed)" in shown.outputs[0].data["text/html"]
    assert "image/png" in code[-1].outputs[0].data  # the interaction figure, drawn inline
    assert (tmp_path / "logs" / "sweeps" / "digits_svc" / "sweep_results.json").is_file()
