"""The event engine of asynchronous methods: the event table (:mod:`.table`), the simulated-clock loop
(:mod:`.loop`), one worker's gradient job (:mod:`.oracle`) and the loop that follows a recorded arrival order
(:mod:`.replay`)."""
