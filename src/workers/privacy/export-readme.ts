/** The README at the root of every data export (docs/privacy.md, "Export"). */
export const EXPORT_README = `# Your data

This archive holds a copy of the data this service keeps about your account. Every JSON file is
an array of records; times are milliseconds since 1970-01-01 UTC unless written as ISO 8601.

- account.json: your account (identifiers, status, roles, when it was created)
- profile.json, settings.json: your profile and settings
- sessions.json: the devices signed in to your account now
- friends.json, friend-groups.json, blocks.json: your friends (with your remarks and groups), your groups, whom you block
- follows.json: whom you follow and who follows you
- conversations.json: the conversations you are in
- messages.json: the messages you sent (the latest text of each; recalled ones have no body)
- files.json and files/: the files you uploaded, their details and the files themselves
- notifications.json: your notifications
- posts.json, comments.json, likes.json, bookmarks.json: what you wrote and marked
- wallet.json, orders.json: your wallet's entries and your orders
`;
