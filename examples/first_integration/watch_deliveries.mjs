// Connect as a browser does, with the official @microsoft/signalr client: it negotiates through the
// facade (POST <hub URL>/negotiate) and follows the facade's {url, accessToken} answer to the service.
//   node examples/first_integration/watch_deliveries.mjs <token> [count]
import signalR from "@microsoft/signalr";

const facadeUrl = process.env.FACADE_URL ?? "http://127.0.0.1:7071";
const [token, count = "1"] = process.argv.slice(2);
const connection = new signalR.HubConnectionBuilder()
  .withUrl(`${facadeUrl}/api/v1/hubs/chat`, { accessTokenFactory: () => token })
  .configureLogging(signalR.LogLevel.None)
  .build();

let received = 0;
const timer = setTimeout(() => { console.error("not enough messages"); process.exit(1); }, 60000);
connection.on("newMessage", (...args) => {
  console.log("delivered:", JSON.stringify(args));
  if (++received >= Number(count)) { clearTimeout(timer); connection.stop(); }
});
await connection.start();
console.log("connected");
