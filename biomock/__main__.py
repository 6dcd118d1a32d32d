from biomock.cli import main

main()
