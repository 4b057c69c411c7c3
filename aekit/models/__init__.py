"""Model families: plain ``torch.nn.Module`` classes, each with a typed config dataclass.

Models know nothing of training, estimators, recipes, plots or the CLI.
"""
