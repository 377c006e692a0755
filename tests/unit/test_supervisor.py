"""The supervisor restarts a child that dies with growing delays, leaves a held child down, and its
children die with its thread (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from control.supervisor import Backoff, Supervisor
from switchboard.process import die_with_parent

FAST = Backoff(first=0.1, cap=0.4, stable=5.0)


def launcher(code: str) -> Callable[[], subprocess.Popen[bytes]]:
    """Starts a small Python child that runs ``code``, as the stack starts its processes."""
    return lambda: subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                                    preexec_fn=die_with_parent())


@pytest.fixture
def said() -> list[str]:
    return []


@pytest.fixture
def supervisor(said: list[str]) -> Iterator[Supervisor]:
    s = Supervisor(said.append, FAST, tick=0.02)
    s.start()
    yield s
    s.stop()


def wait_for(check: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_backoff_doubles_from_half_a_second_up_to_thirty():
    assert [Backoff().delay(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_given_a_child_that_keeps_dying_then_it_is_restarted_after_doubling_delays(supervisor, said):
    supervisor.watch("crasher", launcher("import sys; sys.exit(3)"))
    supervisor.arm()
    assert supervisor.wait_restarted("crasher", 3, timeout=5)
    exits = [m for m in said if "exited" in m][:4]
    assert exits == ["crasher exited with 3; restarting in 0.1 s (restart 1)",
                     "crasher exited with 3; restarting in 0.2 s (restart 2)",
                     "crasher exited with 3; restarting in 0.4 s (restart 3)",
                     "crasher exited with 3; restarting in 0.4 s (restart 4)"]
    assert "crasher restarted (pid " in said[1]


def test_given_a_child_that_ran_stably_then_its_next_restart_comes_after_the_first_delay(said):
    supervisor = Supervisor(said.append, Backoff(first=0.1, cap=10, stable=0.3), tick=0.02)
    supervisor.start()
    try:
        supervisor.watch("steady", launcher("import time; time.sleep(0.4)"))
        supervisor.arm()
        assert supervisor.wait_restarted("steady", 2, timeout=5)
    finally:
        supervisor.stop()
    exits = [m for m in said if "exited" in m]
    assert exits[:2] == [f"steady exited with 0; restarting in 0.1 s (restart {n})" for n in (1, 2)]


def test_given_a_child_killed_by_a_signal_then_the_message_shows_the_signal(supervisor, said):
    process = supervisor.watch("sleeper", launcher("import time; time.sleep(60)"))
    supervisor.arm()
    process.kill()
    assert supervisor.wait_restarted("sleeper", 0, timeout=5)
    assert said[0] == "sleeper exited with -9; restarting in 0.1 s (restart 1)"


def test_given_a_held_child_then_it_stays_down_until_resumed(supervisor, said):
    process = supervisor.watch("held", launcher("import time; time.sleep(60)"))
    supervisor.arm()
    supervisor.hold("held")
    process.terminate()
    process.wait(5)
    time.sleep(0.5)  # several restart delays
    assert supervisor.restarts("held") == 0 and said == []
    again = supervisor.resume("held")
    assert again.poll() is None and again.pid != process.pid
    assert supervisor.restarts("held") == 0  # started on purpose: not a restart
    with pytest.raises(RuntimeError, match="held is running"):
        supervisor.resume("held")
    again.kill()
    assert supervisor.wait_restarted("held", 0, timeout=5)


def test_given_the_supervisor_thread_ends_then_its_children_get_sigterm(said):
    supervisor = Supervisor(said.append, FAST, tick=0.02)
    supervisor.start()
    process = supervisor.watch("orphan", launcher("import time; time.sleep(60)"))
    supervisor.stop()  # without stopping the child: as if the runner had died
    wait_for(lambda: process.poll() is not None)
    assert process.returncode == -15


def test_given_a_child_started_from_a_thread_that_ends_then_the_child_gets_sigterm():
    """Why the stack forks only from its long-lived supervisor thread: the kernel watches the thread."""
    import threading

    started: list[subprocess.Popen[bytes]] = []
    thread = threading.Thread(target=lambda: started.append(launcher("import time; time.sleep(60)")()))
    thread.start()
    thread.join()
    wait_for(lambda: started[0].poll() is not None)
    assert started[0].returncode == -15
