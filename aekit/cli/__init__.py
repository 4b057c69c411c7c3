"""The ``aekit`` command line: the only place that parses arguments and imports everything.

Modules: ``main`` (the parser, common options, error handling, generic commands),
``progress`` (progress bars), and one ``cmd_<family>`` module per model family.
Heavy libraries (torch, matplotlib, scikit-learn) are imported inside the handlers, so
``aekit --help`` answers at once.
"""
