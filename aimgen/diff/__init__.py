"""aimgen diff: compiles two revisions of the inputs and reports what a change does to each service.
Imports the stages and aimgen.build's pipeline functions; nothing imports it but the CLI.
"""
