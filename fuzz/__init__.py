"""Coverage-guided fuzzing of everything that reads user input (atheris / libFuzzer)."""
