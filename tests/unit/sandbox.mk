# sandbox unit tests
