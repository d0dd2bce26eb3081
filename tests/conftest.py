"""Shared fixtures. lxml is imported before xmlsec on purpose: both must bind one libxml2."""

import lxml.etree  # noqa: F401  (first, see module docstring)
import xmlsec  # noqa: F401
