"""Stage 3, render: a Decision -> Manifests (plain dicts + where they came from), and the checks across an
overlay's services. Pure; imports aimgen.resolve and below.
"""
