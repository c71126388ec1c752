from reviewer.cli.main import run

run()
