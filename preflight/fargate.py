"""The CPU/memory pairs Fargate accepts for a task (Amazon ECS developer guide, "Task CPU and memory")."""

from __future__ import annotations


def _steps(low: int, high: int, step: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1, step))


# CPU units -> allowed memory (MiB). Linux tasks; 8 and 16 vCPU need platform version 1.4.0 (the default).
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
}


def valid_memory(cpu: int) -> tuple[int, ...]:
    """Memory sizes (MiB) Fargate accepts with ``cpu`` units; empty when the CPU value itself is invalid."""
    return FARGATE_MEMORY.get(cpu, ())
