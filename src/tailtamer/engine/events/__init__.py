"""The event engine of asynchronous methods: the event table (:mod:`~tailtamer.engine.events.table`), the
simulated-clock loop (:mod:`~tailtamer.engine.events.loop`), one worker's gradient job
(:mod:`~tailtamer.engine.events.oracle`) and the loop that follows a recorded arrival order
(:mod:`~tailtamer.engine.events.replay`)."""
