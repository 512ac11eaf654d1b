"""The incremental build: the build cache, the compiler process and what it compiles per unit of input.
Imports every stage below it (inputs, resolve, render, output) and aimgen.results; never aimgen.build or cli.
"""
