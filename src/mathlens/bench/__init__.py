"""`mathlens bench`: the standard benchmark folders a user has on disk, scored for any backend."""
