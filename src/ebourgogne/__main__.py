from ebourgogne.cli import main

main()
