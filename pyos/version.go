package pyos

// Version is the release of this package and of the Python distribution pyos-pipe2 built from it.
const Version = "0.1.0"
