"""Write NAME_shenjing.py from NAME_torch.py by changing the import lines only (the rest is copied
byte for byte); tests/porting checks that the two forms differ in nothing else."""

import pathlib
import sys

IMPORTS = {
    "import torch": "import shenjing as torch",
    "from torch import nn": "from shenjing import nn",
    "import torch.nn.functional as F": "import shenjing.nn.functional as F",
    "from torch.utils.data import DataLoader": "from shenjing.utils.data import DataLoader",
    "from torch.utils.data import DataLoader, TensorDataset": "from shenjing.utils.data import DataLoader, TensorDataset",
    "from torch.utils.data import DataLoader, Subset": "from shenjing.utils.data import DataLoader, Subset",
    "from torch.utils.data import DataLoader, Dataset": "from shenjing.utils.data import DataLoader, Dataset",
    "from torchvision import datasets": "from shenjing.vision import datasets",
    "from torchvision.transforms import ToTensor": "from shenjing.vision.transforms import ToTensor",
}


def convert(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        key = line.rstrip("\n")
        if key.startswith(("import torch", "from torch")) and key not in IMPORTS:
            raise SystemExit(f"no shenjing form for the import line {key!r}")
        out.append(IMPORTS[key] + "\n" if key in IMPORTS else line)
    return "".join(out)


if __name__ == "__main__":
    here = pathlib.Path(__file__).parent
    for src in sorted(here.glob("*_torch.py")) if len(sys.argv) == 1 else [pathlib.Path(a) for a in sys.argv[1:]]:
        dst = src.with_name(src.name.replace("_torch.py", "_shenjing.py"))
        dst.write_text(convert(src.read_text()))
        print(dst.name)
