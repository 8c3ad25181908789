"""The worker supervisor: answers, streams, deaths with their signal, hangs killed, failed starts,
a private TMPDIR removed however the worker ended, quiet stdio and resource limits.  Each fault
test checks that the fault happened (the process is gone, its exit status the signal)."""

from __future__ import annotations

import os
import signal

import pytest
import supervisor_tasks as t

from curator.scale.supervisor import Limits, Worker, WorkerDied, WorkerHung, WorkerStartError, exit_reason


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_task_answers_and_the_worker_stays_for_the_next():
    w = Worker()
    try:
        assert w.call(t.add, 2, 3, timeout=60) == 5
        assert w.submit(t.add, 4, 5).result(60) == 9
        assert w.alive and w.ready
    finally:
        w.close()
    assert not w.process.is_alive()


def test_a_stream_gives_every_item_and_the_tasks_error_is_raised_as_is():
    w = Worker()
    try:
        assert list(w.stream(t.count, 4, silence=60)) == [0, 1, 2, 3]
        with pytest.raises(ValueError, match="own error"):
            w.call(t.raise_value_error, timeout=60)
        assert w.call(t.add, 1, 1, timeout=60) == 2  # an error in the task is not the worker's death
    finally:
        w.close()


@pytest.mark.parametrize(("task", "sig"), [(t.segfault, signal.SIGSEGV), (t.abort, signal.SIGABRT)])
def test_a_death_is_the_tasks_with_its_signal(task, sig):
    w = Worker()
    w.wait_ready()
    pid = w.pid
    with pytest.raises(WorkerDied) as info:
        w.call(task, timeout=60)
    assert info.value.exitcode == -sig and not info.value.starting
    assert sig.name in info.value.reason and info.value.reason == exit_reason(-sig)
    assert not w.alive and _gone(pid)
    w.close()


def test_a_hang_is_killed_past_its_deadline():
    w = Worker()
    w.wait_ready()
    pid = w.pid
    with pytest.raises(WorkerHung) as info:
        w.call(t.sleep, 3600, timeout=1.0)
    assert info.value.seconds == 1.0
    assert not w.process.is_alive() and w.process.exitcode == -signal.SIGKILL and _gone(pid)
    w.close()


def test_a_stream_that_goes_silent_is_killed_after_its_items():
    w = Worker()
    got = []
    with pytest.raises(WorkerHung):
        for item in w.stream(t.count_then_hang, 3, silence=1.0):
            got.append(item)
    assert got == [0, 1, 2] and w.process.exitcode == -signal.SIGKILL
    w.close()


def test_a_failed_start_says_why():
    w = Worker(t.failing_init)
    with pytest.raises(WorkerStartError, match="RuntimeError: no Warp here"):
        w.wait_ready()
    w.close()


def test_the_private_folder_is_the_workers_tmpdir_and_goes_even_when_it_is_killed(tmp_path):
    w = Worker(private_tmp=str(tmp_path))
    seen = w.call(t.where, timeout=60)
    assert seen["tmp"] == seen["env"] == w.work and os.path.dirname(w.work) == str(tmp_path)
    path = w.call(t.write_tmp, "left.txt", timeout=60)
    assert os.path.exists(path)
    w.close(wait=False)  # killed
    assert w.process.exitcode == -signal.SIGKILL
    assert list(tmp_path.iterdir()) == []


def test_a_quiet_worker_prints_nothing(capfd):
    loud = Worker()
    loud.call(t.shout, "HEARD", timeout=60)
    loud.close()
    quiet = Worker(quiet=True)
    quiet.call(t.shout, "UNHEARD", timeout=60)
    quiet.close()
    out, err = capfd.readouterr()
    assert "HEARD" in out and "HEARD" in err  # the check can see a worker's output
    assert "UNHEARD" not in out + err


def test_a_memory_limit_stops_a_huge_allocation():
    w = Worker(limits=Limits(memory=2 << 30))
    with pytest.raises(MemoryError):
        w.call(t.allocate, 10, timeout=60)
    assert w.call(t.add, 1, 2, timeout=60) == 3  # the worker survives its task's MemoryError
    w.close()
    free = Worker()
    assert free.call(t.allocate, 1, timeout=60) == 1 << 30  # without the limit 1 GiB is fine
    free.close()
