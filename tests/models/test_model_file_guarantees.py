"""Model files a user can trust (library level): a save killed midway leaves the previous file
intact, NaN or inf is never written, and truncated, pickled and newer files are refused."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from support import REPO, synthetic_task

from windowclf import WindowTagger
from windowclf.errors import DivergenceError, ModelFileError
from windowclf.models.container import save_model_file


@pytest.mark.slow
def test_sigkill_during_save_leaves_the_previous_model_intact(tmp_path):
    model = tmp_path / "model.npz"
    sentences, tags = synthetic_task(40)
    WindowTagger(epochs=1, hidden=5, dim=4, seed=0).fit(sentences, tags).save(model)
    before = model.read_bytes()
    # A child writes a large (~400 MB uncompressed) file to the same path; kill it mid-write.
    child = textwrap.dedent(f"""
        import sys, numpy as np
        sys.path.insert(0, {str(REPO)!r})
        from windowclf.models.container import save_model_file
        print("saving", flush=True)
        big = np.random.default_rng(0).normal(size=(50_000_000,))
        save_model_file({str(model)!r}, {{"param/L": big}}, {{"settings": {{}}}})
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "saving"
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
        time.sleep(0.01)
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir()), "the save never started writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert model.read_bytes() == before
    WindowTagger.load(model)  # still loadable


def test_non_finite_weights_are_never_written(tmp_path):
    with pytest.raises(DivergenceError, match="NaN or inf"):
        save_model_file(tmp_path / "m.npz", {"param/W1": np.array([1.0, np.nan])}, {})
    assert not os.path.exists(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind either


def test_truncated_model_file_is_refused(tmp_path):
    sentences, tags = synthetic_task(20)
    path = tmp_path / "m.npz"
    WindowTagger(epochs=1, hidden=4, dim=3).fit(sentences, tags).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"m.npz"):
        WindowTagger.load(path)


def test_object_array_model_is_refused_without_unpickling(tmp_path):
    import pickle
    import zipfile

    class Boom:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "PWNED"),))

    path = tmp_path / "evil.npz"
    arr = np.empty(1, dtype=object)
    arr[0] = Boom()
    np.savez(path, **{"param/L": arr})
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("metadata.json", '{"format_version": 1}')
    assert pickle  # the payload would run on unpickling
    with pytest.raises(ModelFileError, match="not a plain numeric array"):
        WindowTagger.load(path)
    assert not (tmp_path / "PWNED").exists()


def test_model_from_a_newer_format_version_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "future.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", '{"format_version": 99}')
    with pytest.raises(ModelFileError, match="version 99 is newer"):
        WindowTagger.load(path)
