# cgroup unit tests
