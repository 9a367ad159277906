# bash completion for shuttlectl and shuttle-oci, installed under the name of the command
# (bash-completion loads completions/NAME on demand).
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = completion/shuttlectl completion/shuttle-oci
