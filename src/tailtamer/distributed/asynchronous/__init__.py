"""Real asynchronous runs: a server (rank 0) and workers over gloo point-to-point messages
(:mod:`~tailtamer.distributed.asynchronous.server`, :mod:`~tailtamer.distributed.asynchronous.worker`,
:mod:`~tailtamer.distributed.asynchronous.messages`), started by :mod:`~tailtamer.distributed.asynchronous.run`."""
