"""The `pactkb` command line: one module per command group (ingest, stats, search, eval, serve, keys, audit, reembed),
assembled in cli/main.py. Commands import what they run (index, api, evaluation) when they run, so `pactkb --help`
stays fast."""
