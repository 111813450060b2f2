export const metadata = { title: 'llm-relay × Next.js' };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body style={{ margin: 0, fontFamily: 'system-ui, sans-serif', background: '#f4f5f7', color: '#1d2330' }}>
        {children}
      </body>
    </html>
  );
}
