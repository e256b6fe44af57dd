"""The unit tests assert on the one cloud assembly `make synth` wrote (the `synth` fixture, tests/assembly.py), never on
an in-process synth; what needs the app built in-process is tests/app."""
