from aimgen.cli import main

main()
