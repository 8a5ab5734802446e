"""The benchmark runner keeps working: a quick run of the `status` benchmark, no timing checks."""

import subprocess
import sys

from tests.builders import REPO_ROOT


def test_quick_status_benchmark_writes_table_and_markdown(tmp_path):
    output = tmp_path / "RESULTS.md"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "status",
         "--output", str(output)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stderr
    assert "status --json, 1 registries: wall" in run.stdout
    assert "status --json, 20 registries: peak RSS" in run.stdout
    markdown = output.read_text()
    assert "## Machine" in markdown and "- cpu: " in markdown and "- python: " in markdown
    assert "| measurement | value | floor (same run) | ratio | target | verdict |" in markdown
    # the import check ran and found no boto3/botocore/pystray/PIL/plyer/gi module
    assert "| status --json, 20 registries: heavy imports | none | - | - | none | met |" in markdown
