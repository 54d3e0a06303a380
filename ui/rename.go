package ui

import (
	"context"
	"slices"
	"strings"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// renameDialog changes a contact's name and groups (kept for tests).
type renameDialog struct {
	name, groups *widget.Entry
	d            *dialog.FormDialog
}

// showRename asks for a contact's new name and comma-separated groups.
func (r *rosterWindow) showRename(acct string, c account.Contact) {
	rd := &renameDialog{name: widget.NewEntry(), groups: widget.NewEntry()}
	rd.name.SetText(c.Name)
	rd.name.SetPlaceHolder(c.JID)
	rd.groups.SetText(strings.Join(c.Groups, ", "))
	rd.groups.SetPlaceHolder("Friends, Work")
	groupsItem := widget.NewFormItem("Groups", rd.groups)
	groupsItem.HintText = "Separate groups with commas"
	rd.d = dialog.NewForm("Rename "+c.JID, "Save", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Name", rd.name), groupsItem}, func(ok bool) {
			if ok {
				r.renameContact(acct, c.JID, strings.TrimSpace(rd.name.Text), splitGroups(rd.groups.Text))
			}
		}, r.win)
	rd.d.Resize(dialogSize(r.win, 420, 260))
	r.renameDlg = rd
	rd.d.Show()
	r.win.Canvas().Focus(rd.name)
}

// splitGroups turns "Friends, Work,,friends " into [Friends Work friends]:
// trimmed, empty names dropped, exact duplicates dropped (XMPP groups are
// case-sensitive).
func splitGroups(s string) []string {
	var out []string
	for _, g := range strings.Split(s, ",") {
		if g = strings.TrimSpace(g); g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

func (r *rosterWindow) renameContact(acct, jid, name string, groups []string) {
	r.u.do(func(ctx context.Context) error {
		return r.u.b.RenameContact(ctx, acct, jid, name, groups)
	}, func(err error) {
		if err != nil {
			r.setNotice("Could not rename " + jid + ": " + plain(err))
		}
	})
}
