"""Real asynchronous runs: a server (rank 0) and workers over gloo point-to-point messages (:mod:`.server`,
:mod:`.worker`, :mod:`.messages`), started by :mod:`.run`."""
