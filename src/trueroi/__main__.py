from trueroi.cli.main import main

main()
