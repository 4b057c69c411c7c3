"""Model families: plain ``torch.nn.Module`` classes, each with a typed config dataclass.

Models know nothing of training, tasks, plots or the CLI.
"""
