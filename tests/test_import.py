import subprocess
import sys


def test_import_loads_no_heavy_dependencies():
    code = ("import sys, mathlens; from mathlens import Recognizer; "
            "print([m for m in ('torch', 'lightning', 'onnxruntime', 'fastapi', 'ray') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
