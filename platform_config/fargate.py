"""The CPU/memory pairs Fargate accepts for a Linux task (Amazon ECS developer guide, "Task CPU and memory").

Checked once, when the configuration is loaded (`ServiceSettings`), so a size Fargate cannot run never reaches synth.
"""

from __future__ import annotations


def _steps(low: int, high: int, step: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1, step))


# CPU units -> allowed memory (MiB). 8 and 16 vCPU need platform version 1.4.0 (the default).
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
}


def memory_choices(cpu: int) -> str:
    """The memory sizes Fargate runs with ``cpu`` units, in words ("2048 to 8192 MiB in steps of 1024")."""
    allowed = FARGATE_MEMORY[cpu]
    if len(allowed) > 3:
        return f"{allowed[0]} to {allowed[-1]} MiB in steps of {allowed[1] - allowed[0]}"
    return ", ".join(map(str, allowed)) + " MiB"
