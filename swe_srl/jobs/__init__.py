"""Run many tasks in sandboxes, grade them, store each run resumably: what collect, eval (and later Ray) share."""
