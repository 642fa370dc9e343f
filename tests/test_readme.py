"""Every Python snippet of the README runs as written (issue 14), with the tiny model standing in
for the trained one and a small posts.csv for the user's file."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
# the model paths the README shows: a run's model directory, with or without its date and time
MODEL_PATH = re.compile(r'"outputs/[^"]*model"')

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_readme_has_python_snippets():
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.splitlines()[0] for s in SNIPPETS])
def test_a_readme_snippet_runs_as_written(snippet, tiny_model_dir, tmp_path, monkeypatch):
    assert MODEL_PATH.search(snippet), "a snippet without a model path would not test the tiny model"
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"id": [1, 2], "body": ["We are ready to send troops.", "Not on the agenda now."]}).to_csv("posts.csv", index=False)
    exec(compile(MODEL_PATH.sub(repr(str(tiny_model_dir)), snippet), str(README), "exec"), {})
