"""mkdocs hook: render the Sphinx roles used in aekit's docstrings as plain code.

Docstrings say :class:`Data` or :func:`~aekit.data.read_path`; mkdocstrings' numpy parser
leaves the role text in place, so ``:class:<code>Data</code>`` becomes ``<code>Data</code>``.
"""

import re

ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|obj|exc|ref):(<code>)~?")


def on_page_content(html, **kwargs):
    return ROLE.sub(r"\1", html)
