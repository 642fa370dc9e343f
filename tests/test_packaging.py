"""The built wheel carries its configs and corpus: the console scripts work from any directory."""

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_trains_from_another_directory(tmp_path):
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path / "dist"), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("stance-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # Dependencies come from this environment (a .pth line, not processed as a site dir, so an
    # editable `stance` here stays invisible); `stance` itself comes from the wheel alone.
    site = Path(subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    (site / "outer_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True, timeout=300)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    located = subprocess.check_output([str(python), "-c", "import stance; print(stance.__file__)"], cwd=elsewhere, text=True)
    assert str(site) in located

    help_text = subprocess.run([str(venv / "bin" / "stance-train"), "--help"], cwd=elsewhere, capture_output=True, text=True, timeout=120)
    assert help_text.returncode == 0, help_text.stderr
    assert help_text.stdout.startswith("stance-train: fine-tune a transformer")
    assert "troop_deployment" in help_text.stdout and "model: hub, minilm, tiny" in help_text.stdout

    run = subprocess.run(
        [str(venv / "bin" / "stance-train"), "model=tiny", "trainer=fast"], cwd=elsewhere, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]
    model_dir = Path(run.stdout.strip().splitlines()[-1])
    assert model_dir.is_relative_to(elsewhere) and (model_dir / "model.safetensors").is_file()
