from kvsched.experiments.cli import main

main()
