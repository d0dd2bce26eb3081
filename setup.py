"""Build step: the SHEP contracts (the top-level ``wsdl/`` and ``xsd/`` folders) go into the wheel.

The contracts stay where the project was specified with them, at the top of the checkout; a
wheel carries them as package data of the kit, ``connectors/contracts/{wsdl,xsd}/``, where
``connectors.paths`` looks first. Everything else about the package is in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CONTRACTS = {"wsdl": "*.wsdl", "xsd": "*.xsd"}
PACKAGED = Path("connectors", "contracts")


class BuildWithContracts(build_py):
    """``build_py`` that also copies the contracts into the kit inside the build tree."""

    def run(self) -> None:
        super().run()
        # An editable install reads the checkout, where connectors.paths finds the folders.
        if getattr(self, "editable_mode", False):
            return
        for folder, pattern in CONTRACTS.items():
            target = Path(self.build_lib, PACKAGED, folder)
            self.mkpath(str(target))
            for source in sorted((ROOT / folder).glob(pattern)):
                self.copy_file(str(source), str(target / source.name))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return outputs + [
            str(Path(self.build_lib, PACKAGED, folder, source.name))
            for folder, pattern in CONTRACTS.items()
            for source in sorted((ROOT / folder).glob(pattern))
        ]


setup(cmdclass={"build_py": BuildWithContracts})
