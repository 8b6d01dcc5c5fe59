package pyos_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/pyos-project/pyos/pyos"
	"golang.org/x/sys/unix"
)

// seedChildEnv makes the re-executed test binary act as the seed example's child.
const seedChildEnv = "PYOS_EXAMPLE_SEED_CHILD"

func init() {
	childModes[seedChildEnv] = seedChild
}

// seedChild reads the pipe handed over as fd 3 until EOF, as the seed example's child does.
func seedChild() error {
	fmt.Println("Child Process is reading")
	text, err := io.ReadAll(os.NewFile(3, "pipe"))
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	fmt.Println("Read text:", string(text))
	return nil
}

// The seed example done the Go way. Go cannot fork without exec, so the parent
// hands the read end to a re-executed child through os/exec's ExtraFiles.
func Example_seed() {
	r, w, err := pyos.Pipe2(pyos.O_NONBLOCK | pyos.O_CLOEXEC)
	if err != nil {
		panic(err)
	}
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), seedChildEnv+"=1")
	child.ExtraFiles = []*os.File{os.NewFile(uintptr(r), "pipe-r")} // fd 3 in the child, whatever its flags here
	childOut, err := child.StdoutPipe()
	if err != nil {
		panic(err)
	}
	if err := child.Start(); err != nil {
		panic(err)
	}
	child.ExtraFiles[0].Close()

	fmt.Println("Parent process is writing")
	text := "Hello child process"
	unix.Write(w, []byte(text))
	fmt.Println("Written text:", text)
	unix.Close(w)

	said, _ := io.ReadAll(childOut) // the child's lines, printed after the parent's to keep the output in order
	if err := child.Wait(); err != nil {
		panic(err)
	}
	fmt.Print(string(said))
	// Output:
	// Parent process is writing
	// Written text: Hello child process
	// Child Process is reading
	// Read text: Hello child process
}
