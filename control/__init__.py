"""The control layer: the ``switchboard`` CLI, the stack runner, the Asterisk runner, the process
supervisor and the demo. It starts and manages the processes (web, orchestrator, worker) and may import
them and the kernel (``switchboard``); nothing imports it but tests, scripts and benchmarks."""
