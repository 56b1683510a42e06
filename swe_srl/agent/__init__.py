"""The agent runtime: one loop for teachers and students, model clients behind one Protocol, batch runs."""
